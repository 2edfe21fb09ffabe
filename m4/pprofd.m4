# PPROFD_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGES)
# Finds MODULES with pkg-config and sets VAR_CFLAGS/VAR_LIBS, or stops
# configure with a message that names the Debian packages to install.
AC_DEFUN([PPROFD_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found (pkg-config): install the Debian package(s) $3, e.g. apt-get install $3])])
])
