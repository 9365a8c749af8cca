// Command floor measures the physical floor of unpacking: reading every
// given package and decompressing its payload into io.Discard, one
// package after another as sew unpacks them, with the same decoder sew
// uses (internal/payload.Decompress). It prints one line of key=value
// pairs: packages, regular files, compressed payload bytes, cpio bytes,
// installed bytes (the header's file sizes), seconds, and MB/s of
// installed bytes.
//
// With -reuse, zstd payloads go through one decoder reset for each
// package instead of a new one per package (what payload.Decompress
// does): the difference is the cost of allocating and zeroing a decoder's
// window and buffers 400 times.
//
//	go run ./bench/sew/floor [-reuse] PKG.rpm...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sock-project/sock/internal/payload"
	"github.com/sock-project/sock/internal/rpmhdr"
)

type totals struct {
	packages, files             int
	compressed, cpio, installed int64
	// zstd, when not nil, is the one decoder -reuse resets per package,
	// set up as payload.Decompress sets up its own.
	zstd *zstd.Decoder
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("floor: ")
	reuse := flag.Bool("reuse", false, "decode every zstd payload with one decoder, reset per package")
	flag.Parse()
	if flag.NArg() < 1 {
		log.Fatal("usage: floor [-reuse] PKG.rpm...")
	}
	var t totals
	start := time.Now()
	if *reuse {
		var err error
		t.zstd, err = zstd.NewReader(nil, zstd.WithDecoderMaxWindow(1<<30), zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(false))
		if err != nil {
			log.Fatal(err)
		}
		defer t.zstd.Close()
	}
	for _, path := range flag.Args() {
		if err := t.add(path); err != nil {
			log.Fatal(err)
		}
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("packages=%d files=%d compressed=%d cpio=%d installed=%d seconds=%.3f installed_MBps=%.1f\n",
		t.packages, t.files, t.compressed, t.cpio, t.installed, secs, float64(t.installed)/1e6/secs)
}

// add decompresses one package's payload into io.Discard and counts it.
func (t *totals) add(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open package: %w", err)
	}
	defer fh.Close()
	// The same buffer size as sew's unpacker.
	br := bufio.NewReaderSize(fh, 256<<10)
	pkg, err := rpmhdr.ReadPackage(br)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	files, err := payload.Files(pkg.Header)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range files {
		if f.IsRegular() && !f.IsGhost() {
			t.files++
			t.installed += f.Size
		}
	}
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	t.compressed += st.Size() - pkg.PayloadOffset()
	var d io.Reader
	if comp := pkg.Header.String(rpmhdr.TagPayloadComp); comp == "zstd" && t.zstd != nil {
		if err := t.zstd.Reset(br); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		d = t.zstd
	} else {
		rc, err := payload.Decompress(br, comp)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer rc.Close()
		d = rc
	}
	n, err := io.Copy(io.Discard, d)
	if err != nil {
		return fmt.Errorf("%s: decompress payload: %w", path, err)
	}
	t.cpio += n
	t.packages++
	return nil
}
