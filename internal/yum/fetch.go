package yum

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FetchError is a download that failed: URL names what was asked for and
// Err what went wrong, after any retries.
type FetchError struct {
	URL string
	// Status is the HTTP status code, 0 when there was no HTTP answer.
	Status int
	Err    error
}

func (e *FetchError) Error() string { return fmt.Sprintf("fetch %s: %v", e.URL, e.Err) }
func (e *FetchError) Unwrap() error { return e.Err }

// Network reports whether the failure comes from the network or the
// environment (connection refused, timeout, truncated body, 5xx answer,
// local disk) rather than from the request itself (404, 403): the CLI maps
// the former to exit code 3.
func (e *FetchError) Network() bool {
	if e.Status != 0 {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
	}
	if errors.Is(e.Err, os.ErrNotExist) {
		return false
	}
	return true
}

// ChecksumError is a file whose digest differs from the one the metadata
// announces.
type ChecksumError struct {
	URL      string
	Type     string
	Expected string
	Got      string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s checksum mismatch: expected %s, got %s", e.URL, e.Type, e.Expected, e.Got)
}

// errStatus is the error a FetchError carries for an unwanted HTTP status.
type errStatus struct{ status string }

func (e errStatus) Error() string { return "server answered " + e.status }

// Downloader fetches URLs (http, https, file) into files, with timeouts,
// bounded retries and exponential backoff. Its zero value is ready to use;
// it is safe for concurrent use.
type Downloader struct {
	// Client is the HTTP client; nil means one with a 30 s connect and
	// response-header timeout and no overall deadline (packages can be big).
	Client *http.Client
	// Attempts is how many times a download is tried; 0 means 4.
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next
	// one; 0 means 500 ms.
	Backoff time.Duration
	// Log receives one line per retry; nil discards.
	Log *slog.Logger
	// Timeout is how long one attempt may go without receiving a byte,
	// waiting for the answer or in the middle of the body, before it is
	// abandoned (and retried); 0 means DefaultTimeout. Without it a
	// server that stalls after its headers would hang sew for ever.
	Timeout time.Duration
}

// DefaultTimeout is the Timeout of a Downloader that sets none. Tests
// shorten it to provoke stalls quickly.
var DefaultTimeout = 30 * time.Second

// StallError is an attempt that received nothing for After.
type StallError struct{ After time.Duration }

func (e *StallError) Error() string {
	return fmt.Sprintf("server stalled: no data for %v", e.After)
}

func (d *Downloader) timeout() time.Duration {
	if d != nil && d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

// watch returns a context for one attempt that is cancelled with a
// *StallError when the returned reset function has not been called for
// the Downloader's timeout, and a stop function to release it.
func (d *Downloader) watch(ctx context.Context) (context.Context, func(), func()) {
	actx, cancel := context.WithCancelCause(ctx)
	limit := d.timeout()
	t := time.AfterFunc(limit, func() { cancel(&StallError{After: limit}) })
	return actx, func() { t.Reset(limit) }, func() { t.Stop(); cancel(nil) }
}

// stalled turns the failure of an attempt whose context the watchdog
// cancelled into a retryable *StallError.
func stalled(parent, actx context.Context, err error) error {
	var se *StallError
	if parent.Err() == nil && errors.As(context.Cause(actx), &se) {
		return retryable{se}
	}
	return err
}

// idleReader resets a watchdog on every read that brings data.
type idleReader struct {
	r     io.Reader
	reset func()
}

func (r idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.reset()
	}
	return n, err
}

var defaultClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
	},
}

func (d *Downloader) client() *http.Client {
	if d != nil && d.Client != nil {
		return d.Client
	}
	return defaultClient
}

func (d *Downloader) log() *slog.Logger {
	if d != nil && d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (d *Downloader) attempts() int {
	if d != nil && d.Attempts > 0 {
		return d.Attempts
	}
	return 4
}

func (d *Downloader) backoff() time.Duration {
	if d != nil && d.Backoff > 0 {
		return d.Backoff
	}
	return 500 * time.Millisecond
}

// retryable marks an attempt's failure as worth another try.
type retryable struct{ err error }

func (e retryable) Error() string { return e.err.Error() }
func (e retryable) Unwrap() error { return e.err }

// Download writes the content of rawURL to dest atomically: a temporary
// file in dest's directory, renamed into place only once complete and, when
// want has a value, verified, so that dest is either absent or right.
// size, when positive, is the expected length. A mismatching digest is a
// *ChecksumError; any other failure a *FetchError.
func (d *Downloader) Download(ctx context.Context, rawURL, dest string, want Checksum, size int64) error {
	if want.Value != "" {
		if _, err := newHash(want.Type); err != nil {
			return &FetchError{URL: rawURL, Err: err}
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return &FetchError{URL: rawURL, Err: fmt.Errorf("create cache dir: %w", err)}
	}
	wait := d.backoff()
	var last error
	status := 0
	for attempt := 1; ; attempt++ {
		var err error
		status, err = d.once(ctx, rawURL, dest, want, size)
		if err == nil {
			return nil
		}
		var ce *ChecksumError
		if errors.As(err, &ce) {
			return ce
		}
		last = err
		var r retryable
		if !errors.As(err, &r) || attempt >= d.attempts() || ctx.Err() != nil {
			break
		}
		d.log().Info("retry download", "url", rawURL, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return &FetchError{URL: rawURL, Err: ctx.Err()}
		}
		wait *= 2
	}
	var r retryable
	if errors.As(last, &r) {
		last = r.err
	}
	return &FetchError{URL: rawURL, Status: status, Err: last}
}

// once makes one attempt at Download.
func (d *Downloader) once(parent context.Context, rawURL, dest string, want Checksum, size int64) (int, error) {
	ctx, reset, stop := d.watch(parent)
	defer stop()
	rc, status, err := d.open(ctx, rawURL)
	if err != nil {
		return status, stalled(parent, ctx, err)
	}
	defer rc.Close()
	var body io.Reader = idleReader{rc, reset}
	if size > 0 {
		// A server that sends more than the metadata announces is not
		// allowed to fill the disk.
		body = io.LimitReader(body, size+1)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("create temp file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	var w io.Writer = tmp
	var h hash.Hash
	if want.Value != "" {
		h, _ = newHash(want.Type)
		w = io.MultiWriter(tmp, h)
	}
	n, err := io.Copy(w, body)
	if err != nil {
		tmp.Close()
		if ctx.Err() != nil {
			return status, stalled(parent, ctx, ctx.Err())
		}
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == tmp.Name() {
			return status, fmt.Errorf("write %s: %w", tmp.Name(), err)
		}
		return status, retryable{fmt.Errorf("read body: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if size > 0 && n < size {
		return status, retryable{fmt.Errorf("truncated body: got %d bytes, want %d", n, size)}
	}
	if h != nil {
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want.Value) {
			return status, &ChecksumError{URL: rawURL, Type: want.Type, Expected: want.Value, Got: got}
		}
	}
	if size > 0 && n != size {
		return status, fmt.Errorf("size mismatch: got more than the %d bytes the metadata announces", size)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return 0, fmt.Errorf("rename into cache: %w", err)
	}
	return status, nil
}

// open returns the body of rawURL: an HTTP response body or a local file.
func (d *Downloader) open(ctx context.Context, rawURL string) (io.ReadCloser, int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, fmt.Errorf("bad URL: %w", err)
	}
	switch u.Scheme {
	case "file", "":
		p := u.Path
		if u.Scheme == "" {
			p = rawURL
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, err
		}
		return f, 0, nil
	case "http", "https":
	default:
		return nil, 0, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := d.client().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, retryable{err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := errStatus{resp.Status}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return nil, resp.StatusCode, retryable{err}
		}
		return nil, resp.StatusCode, err
	}
	return resp.Body, resp.StatusCode, nil
}

// Get returns the whole content of rawURL, retried like Download. It is for
// small files: repomd.xml, its signature, mirror lists, keys.
func (d *Downloader) Get(ctx context.Context, rawURL string) ([]byte, error) {
	wait := d.backoff()
	status := 0
	var last error
	for attempt := 1; ; attempt++ {
		var b []byte
		var err error
		b, status, err = d.getOnce(ctx, rawURL)
		if err == nil {
			return b, nil
		}
		last = err
		var r retryable
		if !errors.As(err, &r) || attempt >= d.attempts() || ctx.Err() != nil {
			break
		}
		d.log().Info("retry download", "url", rawURL, "attempt", attempt+1, "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, &FetchError{URL: rawURL, Err: ctx.Err()}
		}
		wait *= 2
	}
	var r retryable
	if errors.As(last, &r) {
		last = r.err
	}
	return nil, &FetchError{URL: rawURL, Status: status, Err: last}
}

// maxGet bounds what Get reads: repomd.xml, keys and mirror lists are
// small, and a larger answer is refused rather than cut.
const maxGet = 64 << 20

// getOnce makes one attempt at Get.
func (d *Downloader) getOnce(parent context.Context, rawURL string) ([]byte, int, error) {
	ctx, reset, stop := d.watch(parent)
	defer stop()
	body, status, err := d.open(ctx, rawURL)
	if err != nil {
		return nil, status, stalled(parent, ctx, err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(idleReader{body, reset}, maxGet+1))
	if err != nil {
		if parent.Err() != nil {
			return nil, status, parent.Err()
		}
		return nil, status, stalled(parent, ctx, retryable{fmt.Errorf("read body: %w", err)})
	}
	if len(b) > maxGet {
		return nil, status, fmt.Errorf("answer larger than %d MiB", maxGet>>20)
	}
	return b, status, nil
}

func newHash(typ string) (hash.Hash, error) {
	switch strings.ToLower(typ) {
	case "sha256":
		return sha256.New(), nil
	case "sha", "sha1":
		return sha1.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha224":
		return sha256.New224(), nil
	}
	return nil, fmt.Errorf("unsupported checksum type %q", typ)
}
