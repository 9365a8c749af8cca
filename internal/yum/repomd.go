package yum

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Repomd is repodata/repomd.xml: the revision and the metadata files.
type Repomd struct {
	Revision string
	Data     map[string]RepomdData // by type: primary, filelists, other, primary_db...
}

// RepomdData is one <data> entry of repomd.xml.
type RepomdData struct {
	Type         string
	Location     string // href, relative to the repository base
	Checksum     Checksum
	OpenChecksum Checksum
	Size         int64
	OpenSize     int64
	Timestamp    int64
}

type xmlRepomd struct {
	Revision string `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		OpenChecksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"open-checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Timestamp int64 `xml:"timestamp"`
		Size      int64 `xml:"size"`
		OpenSize  int64 `xml:"open-size"`
	} `xml:"data"`
}

// ParseRepomd decodes repomd.xml.
func ParseRepomd(b []byte) (*Repomd, error) {
	var x xmlRepomd
	if err := xml.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("parse repomd.xml: %w", err)
	}
	md := &Repomd{Revision: strings.TrimSpace(x.Revision), Data: map[string]RepomdData{}}
	for _, d := range x.Data {
		md.Data[d.Type] = RepomdData{
			Type:         d.Type,
			Location:     d.Location.Href,
			Checksum:     Checksum{d.Checksum.Type, strings.TrimSpace(d.Checksum.Value)},
			OpenChecksum: Checksum{d.OpenChecksum.Type, strings.TrimSpace(d.OpenChecksum.Value)},
			Size:         d.Size,
			OpenSize:     d.OpenSize,
			Timestamp:    d.Timestamp,
		}
	}
	if _, ok := md.Data["primary"]; !ok {
		return nil, fmt.Errorf("parse repomd.xml: no primary data")
	}
	return md, nil
}

// decompress opens r according to the compression its name announces
// (.gz, .xz, .zst, .bz2, or none), checking magic bytes to be sure.
func decompress(name string, r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(zr), nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return io.NopCloser(bzip2.NewReader(br)), nil
	}
	for _, ext := range []string{".gz", ".xz", ".zst", ".bz2"} {
		if strings.HasSuffix(name, ext) {
			return nil, fmt.Errorf("%s is not %s-compressed", name, ext[1:])
		}
	}
	return io.NopCloser(br), nil
}

// DefaultOpenLimit bounds a metadata file whose repomd.xml entry gives no
// open-size: 4 GiB of XML is forty times a whole distribution's primary.
const DefaultOpenLimit = 4 << 30

// OpenSizeError is a metadata file that inflates past the size repomd.xml
// announces for it: a decompression bomb, or metadata that does not match
// its repomd.xml.
type OpenSizeError struct {
	File  string
	Limit int64
}

func (e *OpenSizeError) Error() string {
	// The file is named by whoever wraps this error, once.
	return fmt.Sprintf("inflates past %d bytes, the open-size repomd.xml announces", e.Limit)
}

// decompressLimited is decompress with the inflated stream cut off, with
// an *OpenSizeError, once it passes openSize bytes (DefaultOpenLimit when
// openSize is not positive).
func decompressLimited(name string, r io.Reader, openSize int64) (io.ReadCloser, error) {
	zr, err := decompress(name, r)
	if err != nil {
		return nil, err
	}
	limit := openSize
	if limit <= 0 {
		limit = DefaultOpenLimit
	}
	return &openLimit{ReadCloser: zr, left: limit + 1, err: &OpenSizeError{File: name, Limit: limit}}, nil
}

type openLimit struct {
	io.ReadCloser
	left int64
	err  error
}

func (l *openLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		return n - 1, l.err // the byte past the limit is not data
	}
	return n, err
}
