package main

import (
	"bytes"
	"reflect"
	"runtime"
	"sync"
)

// parallelListMin is the list length from which encoding is split across
// CPUs: below it a goroutine costs more than it saves.
const parallelListMin = 256

// encodeList renders a list as `[` + one compact element per line + `]`.
// A long list (`ctl ps -o json` on a host with a thousand processes) is
// encoded in GOMAXPROCS contiguous parts at once, then joined in order: the
// agent is idle by then, and encoding is most of what ctl does after the
// answer arrives. The output is byte for byte what one encoder writes.
func encodeList(rv reflect.Value) ([]byte, error) {
	n := rv.Len()
	if n == 0 {
		return []byte("[]\n"), nil
	}
	parts := 1
	if n >= parallelListMin {
		parts = min(runtime.GOMAXPROCS(0), n/(parallelListMin/2))
	}
	bufs := make([]bytes.Buffer, parts)
	errs := make([]error, parts)
	encode := func(p int) {
		b := &bufs[p]
		lo, hi := p*n/parts, (p+1)*n/parts
		b.Grow((hi - lo) * 256)
		enc := jsonEncoder(b)
		for i := lo; i < hi; i++ {
			if i == 0 {
				b.WriteString("[\n  ")
			} else {
				b.WriteString(",\n  ")
			}
			if err := enc.Encode(rv.Index(i).Interface()); err != nil {
				errs[p] = err
				return
			}
			b.Truncate(b.Len() - 1) // Encode's newline
		}
	}
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		wg.Go(func() { encode(p) })
	}
	encode(0)
	wg.Wait()
	size := 3
	for p := range bufs {
		if errs[p] != nil {
			return nil, errs[p]
		}
		size += bufs[p].Len()
	}
	out := make([]byte, 0, size)
	for p := range bufs {
		out = append(out, bufs[p].Bytes()...)
	}
	return append(out, "\n]\n"...), nil
}
