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
		// One decoding goroutine ahead of the writer is enough: the
		// unpacker's own writes are the other half of the work, and the
		// machine is shared.
		z, err := zstd.NewReader(r,
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderConcurrency(2),
			zstd.WithDecoderLowmem(false))
		if err != nil {
			return nil, fmt.Errorf("zstd payload: %w", err)
		}
		return zstdCloser{z}, nil
	}
	return nil, fmt.Errorf("unknown payload compressor %q", compressor)
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }
