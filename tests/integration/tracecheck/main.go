// Command tracecheck validates a Chrome trace-event JSON file against the
// format's documented rules (the Trace Event Format document that
// chrome://tracing and Perfetto's JSON importer follow) and prints a
// summary the end-to-end tests assert on.
//
// Usage: go run ./tracecheck FILE
//
// Checked: the JSON object format ({"traceEvents": [...]} with optional
// "stackFrames", "displayTimeUnit", "otherData"); each event's phase is
// known and carries the fields that phase needs (pid, tid, ts, name;
// "dur" for X, "s" for instants, "id" for async events, numeric "args"
// for counters, "args.name" for metadata); "sf" names an entry of
// stackFrames, whose "parent" chains end without a cycle; B/E pairs nest
// per thread; every async end matches an earlier begin; timestamps of
// non-metadata events never go backwards.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

type frame struct {
	Name     *string `json:"name"`
	Category string  `json:"category"`
	Parent   *string `json:"parent"`
}

type doc struct {
	TraceEvents     []map[string]json.RawMessage `json:"traceEvents"`
	StackFrames     map[string]frame             `json:"stackFrames"`
	DisplayTimeUnit *string                      `json:"displayTimeUnit"`
	OtherData       map[string]json.RawMessage   `json:"otherData"`
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tracecheck: "+format+"\n", a...)
	os.Exit(1)
}

func num(e map[string]json.RawMessage, k string, i int) float64 {
	var v float64
	raw, ok := e[k]
	if !ok || json.Unmarshal(raw, &v) != nil {
		fail("event %d: %q missing or not a number", i, k)
	}
	return v
}

func str(e map[string]json.RawMessage, k string, i int) string {
	var v string
	raw, ok := e[k]
	if !ok || json.Unmarshal(raw, &v) != nil {
		fail("event %d: %q missing or not a string", i, k)
	}
	return v
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: tracecheck FILE")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	var d doc
	if err := json.Unmarshal(data, &d); err != nil {
		fail("not a trace JSON object: %v", err)
	}
	if d.TraceEvents == nil {
		fail("no traceEvents array")
	}
	if d.DisplayTimeUnit != nil && *d.DisplayTimeUnit != "ms" && *d.DisplayTimeUnit != "ns" {
		fail("displayTimeUnit %q", *d.DisplayTimeUnit)
	}
	for id, f := range d.StackFrames {
		if f.Name == nil {
			fail("stack frame %s has no name", id)
		}
		seen := map[string]bool{}
		for p := f.Parent; p != nil; p = d.StackFrames[*p].Parent {
			if _, ok := d.StackFrames[*p]; !ok {
				fail("stack frame %s: parent %s does not exist", id, *p)
			}
			if seen[*p] {
				fail("stack frame %s: parent cycle", id)
			}
			seen[*p] = true
		}
	}
	type key struct{ pid, tid int }
	open := map[key][]string{}
	async := map[string]int{}
	names := map[int]string{}
	count := map[string]int{}
	last := -1.0
	for i, e := range d.TraceEvents {
		ph := str(e, "ph", i)
		name := str(e, "name", i)
		pid, tid := int(num(e, "pid", i)), int(num(e, "tid", i))
		ts := num(e, "ts", i)
		if ts < 0 {
			fail("event %d: negative ts", i)
		}
		if raw, ok := e["sf"]; ok {
			var sf string
			if json.Unmarshal(raw, &sf) != nil {
				fail("event %d: sf is not a string", i)
			}
			if _, ok := d.StackFrames[sf]; !ok {
				fail("event %d: sf %s not in stackFrames", i, sf)
			}
		}
		if ph != "M" {
			if ts < last {
				fail("event %d: ts %.3f before %.3f", i, ts, last)
			}
			last = ts
		}
		k := key{pid, tid}
		switch ph {
		case "M":
			var args struct{ Name *string }
			if json.Unmarshal(e["args"], &args) != nil || args.Name == nil {
				fail("event %d: metadata without args.name", i)
			}
			if name == "thread_name" {
				names[tid] = *args.Name
			}
		case "X":
			if num(e, "dur", i) < 0 {
				fail("event %d: negative dur", i)
			}
		case "i", "I":
			if s := str(e, "s", i); s != "g" && s != "p" && s != "t" {
				fail("event %d: instant scope %q", i, s)
			}
		case "C":
			var args map[string]float64
			if json.Unmarshal(e["args"], &args) != nil || len(args) == 0 {
				fail("event %d: counter without numeric args", i)
			}
		case "B":
			open[k] = append(open[k], name)
		case "E":
			if len(open[k]) == 0 {
				fail("event %d: E without B on tid %d", i, tid)
			}
			open[k] = open[k][:len(open[k])-1]
		case "b", "e":
			id := str(e, "id", i) + "/" + str(e, "cat", i) + "/" + name
			if ph == "b" {
				async[id]++
			} else if async[id] == 0 {
				fail("event %d: async end %s without begin", i, id)
			} else {
				async[id]--
			}
		default:
			fail("event %d: unknown phase %q", i, ph)
		}
		cat := ""
		if raw, ok := e["cat"]; ok {
			json.Unmarshal(raw, &cat)
		}
		count[ph+" "+cat]++
	}
	fmt.Printf("ok: %d events, %d stack frames, %d threads\n",
		len(d.TraceEvents), len(d.StackFrames), len(names))
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("phase %s: %d\n", k, count[k])
	}
	tids := make([]int, 0, len(names))
	for t := range names {
		tids = append(tids, t)
	}
	sort.Ints(tids)
	for _, t := range tids {
		fmt.Printf("thread %d: %s\n", t, names[t])
	}
}
