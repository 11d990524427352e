package main

import (
	"sort"
	"strconv"
	"strings"
)

// compressHosts folds host names into dshbak's notation: web1, web2, web3,
// db1 -> db1,web[1-3]. Names without a numeric tail stay as they are.
func compressHosts(names []string) string {
	type tail struct {
		n     int
		width int
	}
	byPrefix := map[string][]tail{}
	var plain, prefixes []string
	for _, name := range names {
		i := len(name)
		for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
			i--
		}
		n, err := strconv.Atoi(name[i:])
		if i == len(name) || err != nil || strings.ContainsAny(name, ":[]") {
			plain = append(plain, name)
			continue
		}
		p := name[:i]
		if _, ok := byPrefix[p]; !ok {
			prefixes = append(prefixes, p)
		}
		byPrefix[p] = append(byPrefix[p], tail{n, len(name) - i})
	}
	out := append([]string(nil), plain...)
	for _, p := range prefixes {
		ts := byPrefix[p]
		if len(ts) == 1 {
			out = append(out, p+pad(ts[0].n, ts[0].width))
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].n < ts[j].n })
		var parts []string
		for i := 0; i < len(ts); {
			j := i
			for j+1 < len(ts) && ts[j+1].n == ts[j].n+1 && ts[j+1].width == ts[i].width {
				j++
			}
			if j == i {
				parts = append(parts, pad(ts[i].n, ts[i].width))
			} else {
				parts = append(parts, pad(ts[i].n, ts[i].width)+"-"+pad(ts[j].n, ts[j].width))
			}
			i = j + 1
		}
		out = append(out, p+"["+strings.Join(parts, ",")+"]")
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
