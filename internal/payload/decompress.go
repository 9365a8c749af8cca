package payload

import (
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// zstdMaxWindow bounds the window a zstd payload may ask for. rpm lets
// packagers pick levels and long-distance modes whose windows reach
// hundreds of MiB (--long=31 is 2 GiB); 1 GiB covers what distributions
// ship while keeping a hostile frame from reserving more.
const zstdMaxWindow = 1 << 30

// Decompress returns a reader of the uncompressed payload for rpm's
// PAYLOADCOMPRESSOR value: gzip, bzip2, xz, lzma (the legacy .lzma
// format), zstd, or "" / "none" / "identity" for an uncompressed payload.
func Decompress(r io.Reader, compressor string) (io.ReadCloser, error) {
	switch compressor {
	case "", "none", "identity":
		return io.NopCloser(r), nil
	case "gzip":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip payload: %w", err)
		}
		return z, nil
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	case "xz":
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("xz payload: %w", err)
		}
		return io.NopCloser(z), nil
	case "lzma":
		z, err := lzma.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("lzma payload: %w", err)
		}
		return io.NopCloser(z), nil
	case "zstd":
		z, err := getZstd()
		if err != nil {
			return nil, fmt.Errorf("zstd payload: %w", err)
		}
		if err := z.Reset(r); err != nil {
			putZstd(z)
			return nil, fmt.Errorf("zstd payload: %w", err)
		}
		return &zstdCloser{z: z}, nil
	}
	return nil, fmt.Errorf("unknown payload compressor %q", compressor)
}

// zstdFree keeps a few decoders between packages: a new decoder
// allocates and zeroes megabytes of buffers, which for a few hundred
// packages was a third of the decoding time and most of sew's garbage. A
// bounded list rather than a sync.Pool, because a decoder must be Closed
// to stop its goroutines, and a pool may drop it unclosed.
var zstdFree = make(chan *zstd.Decoder, 2)

func getZstd() (*zstd.Decoder, error) {
	select {
	case z := <-zstdFree:
		return z, nil
	default:
	}
	// One decoding goroutine ahead of the writer is enough: the
	// unpacker's own writes are the other half of the work, and the
	// machine is shared.
	return zstd.NewReader(nil,
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
		zstd.WithDecoderConcurrency(2),
		zstd.WithDecoderLowmem(false))
}

// zstdCloser hands its decoder back to the pool on Close, detached from
// the package's reader.
type zstdCloser struct {
	z *zstd.Decoder
}

func (c *zstdCloser) Read(p []byte) (int, error) {
	if c.z == nil {
		return 0, io.ErrClosedPipe
	}
	return c.z.Read(p)
}

func (c *zstdCloser) Close() error {
	if c.z != nil {
		putZstd(c.z)
		c.z = nil
	}
	return nil
}

// putZstd detaches a decoder from its stream and keeps it for the next
// package, or closes it when enough are kept.
func putZstd(z *zstd.Decoder) {
	if z.Reset(nil) != nil {
		z.Close()
		return
	}
	select {
	case zstdFree <- z:
	default:
		z.Close()
	}
}
