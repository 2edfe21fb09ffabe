// contention_cxx.cc - C++'s std::mutex, std::shared_mutex and
// std::condition_variable contended on purpose, for check_contention:
// libstdc++ implements them with the pthread calls pprofd wraps.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace {
std::mutex mu;
std::shared_mutex smu;
std::mutex cv_mu;
std::condition_variable cv;
bool ready;
} // namespace

extern "C" {
__attribute__((noinline)) void cxx_mutex_waiter() {
  std::lock_guard<std::mutex> g(mu);
}

__attribute__((noinline)) void cxx_mutex_holder(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  mu.unlock();
  __asm__ volatile(""); // not a tail call: keep this frame
}

__attribute__((noinline)) void cxx_shared_waiter() {
  std::shared_lock<std::shared_mutex> g(smu);
}

__attribute__((noinline)) void cxx_cv_waiter() {
  std::unique_lock<std::mutex> g(cv_mu);
  cv.wait(g, [] { return ready; });
}

// Each primitive is held or left unsignalled for ms milliseconds while
// another thread waits on it.
void cxx_contend(int ms) {
  mu.lock();
  std::thread a(cxx_mutex_waiter);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  cxx_mutex_holder(ms);
  a.join();

  smu.lock();
  std::thread b(cxx_shared_waiter);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  smu.unlock();
  b.join();

  std::thread c(cxx_cv_waiter);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  {
    std::lock_guard<std::mutex> g(cv_mu);
    ready = true;
  }
  cv.notify_one();
  c.join();
}
}
