package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkScriptlet measures what one shell scriptlet costs end to end
// (enter the SOCK, write the body, run busybox sh, report): the
// per-scriptlet overhead sew pays. Run it briefly:
//
//	go test -run '^$' -bench Scriptlet -benchtime 20x ./internal/sandbox
func BenchmarkScriptlet(b *testing.B) {
	root := newSock(b)
	if err := Available(root); err != nil {
		b.Skip(err)
	}
	s := Scriptlet{NEVRA: "bench-1-1.noarch", Kind: PostIn, Body: "true\n", Args: []int{1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RunScriptlet(context.Background(), root, s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunHostNetwork is Run of "true" with the host's network, to
// tell the cost of a network namespace of its own.
func BenchmarkRunHostNetwork(b *testing.B) {
	root := newSock(b)
	if err := Available(root); err != nil {
		b.Skip(err)
	}
	for _, net := range []bool{false, true} {
		name := "own-network"
		if net {
			name = "host-network"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), root, []string{"true"}, Options{HostNetwork: net}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScriptletLargeSock is BenchmarkScriptlet on a SOCK of 20,000
// files: without root and with subordinate ids, the owner walk after
// each scriptlet grows with the tree.
func BenchmarkScriptletLargeSock(b *testing.B) {
	root := newSock(b)
	if err := Available(root); err != nil {
		b.Skip(err)
	}
	for d := 0; d < 200; d++ {
		dir := filepath.Join(root, "usr/share/bench", strconv.Itoa(d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < 100; f++ {
			if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(f)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	s := Scriptlet{NEVRA: "bench-1-1.noarch", Kind: PostIn, Body: "true\n", Args: []int{1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RunScriptlet(context.Background(), root, s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
