package yum

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkColdPrimary measures, on the file named by SOCK_BENCH_PRIMARY
// (for example bench/debrepo's primary.xml.gz; see docs/benchmarks.md),
// the cold load of a repository's primary as readPrimary does it (load:
// hash, decompress, scan, encode the parsed cache, decode it) and its
// floors: inflate (decompress into io.Discard) and scan (decompress on
// the second core, as the load does, and a bare XML scan), and parse
// (the load up to its cache file: hash, decompress, scan and encode). It
// skips without the file.
func BenchmarkColdPrimary(b *testing.B) {
	file := os.Getenv("SOCK_BENCH_PRIMARY")
	if file == "" {
		b.Skip("SOCK_BENCH_PRIMARY names no primary.xml(.gz/.xz/.zst)")
	}
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	openSize, err := inflatedSize(file)
	if err != nil {
		b.Fatal(err)
	}
	// As repomd.xml gives them: the loader sizes its tables by OpenSize.
	prim := RepomdData{Type: "primary", Checksum: Checksum{"sha256", hex.EncodeToString(h.Sum(nil))}, Size: size, OpenSize: openSize}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.Run("inflate", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			f, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			zr, err := decompress(file, f)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				b.Fatal(err)
			}
			zr.Close()
			f.Close()
		}
	})
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			f, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			zr, err := decompress(file, f)
			if err != nil {
				b.Fatal(err)
			}
			cr := newChunkReader(zr)
			s := newXMLScanner(cr)
			for {
				if err := s.next(); err != nil {
					b.Fatal(err)
				}
				if s.kind == tokEOF {
					break
				}
			}
			cr.Close()
			zr.Close()
			f.Close()
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			cb := newCacheBuilder(cacheKindPrimary, int(min(prim.OpenSize/1500, 1<<17)))
			cb.spillTo(b.TempDir())
			if err := parsePrimaryFile(file, prim.Checksum, prim.OpenSize, cb); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(cb.st.strs)), "shared-strings")
			cb.discard()
		}
	})
	b.Run("load", func(b *testing.B) { benchLoad(b, file, prim, size, log) })
}

// inflatedSize is the size of file decompressed.
func inflatedSize(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := decompress(file, f)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	return io.Copy(io.Discard, zr)
}

func benchLoad(b *testing.B, file string, prim RepomdData, size int64, log *slog.Logger) {
	b.SetBytes(size)
	for range b.N {
		dir := b.TempDir()
		primPath := filepath.Join(dir, filepath.Base(file))
		if err := os.Link(file, primPath); err != nil {
			b.Fatal(err)
		}
		rm := &RepoMetadata{Repo: Repo{ID: "bench"}, BaseURL: "file:///bench/", Dir: dir}
		pkgs, _, err := (&Metadata{}).readPrimary(rm, prim, primPath, log)
		if err != nil {
			b.Fatal(err)
		}
		if len(pkgs) == 0 {
			b.Fatal("no packages")
		}
	}
}
