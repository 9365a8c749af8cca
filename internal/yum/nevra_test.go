package yum

import (
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
)

func nevraHeader(t *testing.T, epoch []uint32) *rpmhdr.Header {
	t.Helper()
	es := []rpmhdr.NewEntry{
		rpmhdr.StringEntry(rpmhdr.TagName, "hello"),
		rpmhdr.StringEntry(rpmhdr.TagVersion, "1.0"),
		rpmhdr.StringEntry(rpmhdr.TagRelease, "1"),
		rpmhdr.StringEntry(rpmhdr.TagArch, "x86_64"),
	}
	if epoch != nil {
		es = append(es, rpmhdr.Int32Entry(rpmhdr.TagEpoch, epoch...))
	}
	raw, err := rpmhdr.Build(rpmhdr.TagHeaderImmutable, es)
	if err != nil {
		t.Fatal(err)
	}
	h, err := rpmhdr.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestNEVRAForms pins the two spellings: dnf's (messages, pins) never
// writes epoch 0; rpm's %{NEVRA} writes "0:" when the Epoch tag is there.
// Package.Is matches a header to the package whichever way it spells
// epoch 0.
func TestNEVRAForms(t *testing.T) {
	p0 := &Package{Name: "hello", Version: "1.0", Release: "1", Arch: "x86_64"}
	p3 := &Package{Name: "hello", Epoch: 3, Version: "1.0", Release: "1", Arch: "x86_64"}
	if got := p0.NEVRA(); got != "hello-1.0-1.x86_64" {
		t.Errorf("epoch 0: NEVRA() = %q", got)
	}
	if got := p3.NEVRA(); got != "hello-3:1.0-1.x86_64" {
		t.Errorf("epoch 3: NEVRA() = %q", got)
	}
	for _, c := range []struct {
		epoch   []uint32
		rpm     string
		is, is3 bool
	}{
		{nil, "hello-1.0-1.x86_64", true, false},
		{[]uint32{0}, "hello-0:1.0-1.x86_64", true, false},
		{[]uint32{3}, "hello-3:1.0-1.x86_64", false, true},
	} {
		h := nevraHeader(t, c.epoch)
		if got := h.NEVRA(); got != c.rpm {
			t.Errorf("epoch tag %v: header NEVRA() = %q, rpm prints %q", c.epoch, got, c.rpm)
		}
		if got := p0.Is(h); got != c.is {
			t.Errorf("epoch tag %v: %s.Is = %v", c.epoch, p0.NEVRA(), got)
		}
		if got := p3.Is(h); got != c.is3 {
			t.Errorf("epoch tag %v: %s.Is = %v", c.epoch, p3.NEVRA(), got)
		}
	}
	other := *p0
	other.Release = "2"
	if other.Is(nevraHeader(t, nil)) {
		t.Error("release 2 matched a release 1 header")
	}
}
