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
	"sync/atomic"
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
	var env interface{ Environment() bool }
	if errors.As(e.Err, &env) {
		return env.Environment()
	}
	if e.Status != 0 && e.Status != http.StatusOK {
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
//
// An attempt fails, as dnf's librepo makes it fail, when it runs slower
// than MinRate bytes per second for Timeout (nothing at all received for
// Timeout is a *StallError, a trickle a *SlowError); a download, all its
// attempts together, fails past Deadline; and no body may pass the size
// the metadata announces, or MaxSize when it announces none (*SizeError).
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
	// Timeout is how long one attempt may run below MinRate, waiting for
	// the answer or in the middle of the body, before it is abandoned
	// (and retried); 0 means DefaultTimeout. It is the .repo key timeout.
	Timeout time.Duration
	// MinRate is the slowest transfer, in bytes per second, that may go
	// on for Timeout; 0 means DefaultMinRate, negative turns the check
	// off (a plain stall is still caught). It is the .repo key minrate.
	MinRate int64
	// Deadline bounds one download, retries included; 0 means
	// DefaultDeadline.
	Deadline time.Duration
	// MaxSize bounds a download whose size the metadata does not
	// announce; 0 means DefaultMaxSize.
	MaxSize int64
}

// Defaults of a Downloader's limits; tests shorten them to provoke
// failures quickly. DefaultTimeout and DefaultMinRate are dnf's own
// (30 s below 1000 bytes/s fails); DefaultMaxSize is twice the largest
// packages distributions ship (a few GiB of game data or firmware).
var (
	DefaultTimeout        = 30 * time.Second
	DefaultMinRate  int64 = 1000
	DefaultDeadline       = 6 * time.Hour
	DefaultMaxSize  int64 = 8 << 30
)

// StallError is an attempt that received nothing for After.
type StallError struct{ After time.Duration }

func (e *StallError) Error() string {
	return fmt.Sprintf("server stalled: no data for %v", e.After)
}

// SlowError is an attempt that ran slower than MinRate bytes per second
// for After.
type SlowError struct {
	MinRate int64
	After   time.Duration
	Got     int64 // bytes received in that time
}

func (e *SlowError) Error() string {
	return fmt.Sprintf("transfer too slow: %d bytes in %v, below the minimum rate of %d bytes/s (minrate, timeout)", e.Got, e.After, e.MinRate)
}

// DeadlineError is a download that was not done after Deadline, retries
// included.
type DeadlineError struct{ After time.Duration }

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("download not done after %v", e.After)
}

// SizeError is a body larger than the size the metadata announces for
// it (Declared) or, when it announces none, than the download cap.
type SizeError struct {
	Limit    int64
	Declared bool
	// Cap names the bound when none was declared; empty means the
	// download cap.
	Cap string
}

func (e *SizeError) Error() string {
	switch {
	case e.Declared:
		return fmt.Sprintf("server sent more than the %d bytes the metadata announces", e.Limit)
	case e.Cap != "":
		return fmt.Sprintf("server sent more than %d bytes, %s", e.Limit, e.Cap)
	}
	return fmt.Sprintf("server sent more than %d bytes, the download cap (--max-download, max_download)", e.Limit)
}

// Environment is false: the repository is at fault (or the cap too low
// for it), exit code 1.
func (e *SizeError) Environment() bool { return false }

func (d *Downloader) timeout() time.Duration {
	if d != nil && d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Downloader) minRate() int64 {
	switch {
	case d != nil && d.MinRate > 0:
		return d.MinRate
	case d != nil && d.MinRate < 0:
		return 0
	}
	return DefaultMinRate
}

func (d *Downloader) deadline() time.Duration {
	if d != nil && d.Deadline > 0 {
		return d.Deadline
	}
	return DefaultDeadline
}

func (d *Downloader) maxSize() int64 {
	if d != nil && d.MaxSize > 0 {
		return d.MaxSize
	}
	return DefaultMaxSize
}

// rateWatch is the minrate/timeout rule of one attempt: a ticker looks
// at the bytes received, and when they stay below minRate per second for
// the timeout the attempt's context is cancelled with a *StallError
// (nothing received) or a *SlowError.
type rateWatch struct {
	n atomic.Int64
}

func (w *rateWatch) add(n int) { w.n.Add(int64(n)) }

// watch returns a context for one attempt that the minrate/timeout rule
// cancels, the counter its reads feed, and a stop function.
func (d *Downloader) watch(ctx context.Context) (context.Context, *rateWatch, func()) {
	actx, cancel := context.WithCancelCause(ctx)
	limit, rate := d.timeout(), d.minRate()
	w := &rateWatch{}
	tick := limit / 10
	if tick > time.Second {
		tick = time.Second
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		// since is when the transfer last ran at minRate or faster;
		// mark is the count then.
		since, mark := time.Now(), int64(0)
		for {
			select {
			case <-done:
				return
			case <-actx.Done():
				return
			case now := <-t.C:
				n := w.n.Load()
				el := now.Sub(since)
				if float64(n-mark) >= float64(rate)*el.Seconds() && n > mark {
					since, mark = now, n
					continue
				}
				if el < limit {
					continue
				}
				if n == mark {
					cancel(&StallError{After: limit})
				} else {
					cancel(&SlowError{MinRate: rate, After: el.Round(time.Millisecond), Got: n - mark})
				}
				return
			}
		}
	}()
	return actx, w, func() { close(done); cancel(nil) }
}

// stalled turns the failure of an attempt whose context the rate watch
// cancelled into a retryable *StallError or *SlowError.
func stalled(parent, actx context.Context, err error) error {
	if parent.Err() != nil {
		return err
	}
	var se *StallError
	var sl *SlowError
	switch cause := context.Cause(actx); {
	case errors.As(cause, &se):
		return retryable{se}
	case errors.As(cause, &sl):
		return retryable{sl}
	}
	return err
}

// countingReader feeds a rate watch with every read.
type countingReader struct {
	r io.Reader
	w *rateWatch
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.w.add(n)
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

// retry runs attempt until it succeeds, fails for good, or the attempts,
// the context or the download's deadline run out, waiting with
// exponential backoff between tries; the failure is a *FetchError naming
// rawURL. It is the one retry loop of Download and Get.
func (d *Downloader) retry(ctx context.Context, rawURL string, attempt func(context.Context) (int, error)) error {
	limit := d.deadline()
	dctx, cancel := context.WithTimeoutCause(ctx, limit, &DeadlineError{After: limit})
	defer cancel()
	wait := d.backoff()
	var last error
	status := 0
	for n := 1; ; n++ {
		var err error
		status, err = attempt(dctx)
		if err == nil {
			return nil
		}
		var ce *ChecksumError
		if errors.As(err, &ce) {
			return ce
		}
		last = err
		if ctx.Err() == nil && dctx.Err() != nil {
			last = context.Cause(dctx)
			break
		}
		var r retryable
		if !errors.As(err, &r) || n >= d.attempts() || ctx.Err() != nil {
			break
		}
		d.log().Info("retry download", "url", rawURL, "attempt", n+1, "wait", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-dctx.Done():
			if ctx.Err() != nil {
				return &FetchError{URL: rawURL, Err: ctx.Err()}
			}
			return &FetchError{URL: rawURL, Status: status, Err: context.Cause(dctx)}
		}
		wait *= 2
	}
	var r retryable
	if errors.As(last, &r) {
		last = r.err
	}
	return &FetchError{URL: rawURL, Status: status, Err: last}
}

// Download writes the content of rawURL to dest atomically: a temporary
// file in dest's directory, renamed into place only once complete and, when
// want has a value, verified, so that dest is either absent or right.
// size, when positive, is the expected length; otherwise the body may not
// pass MaxSize. A mismatching digest is a *ChecksumError; any other
// failure a *FetchError.
func (d *Downloader) Download(ctx context.Context, rawURL, dest string, want Checksum, size int64) error {
	if want.Value != "" {
		if _, err := newHash(want.Type); err != nil {
			return &FetchError{URL: rawURL, Err: err}
		}
		if err := want.Check(rawURL); err != nil {
			return &FetchError{URL: rawURL, Err: err}
		}
	}
	if err := ensureParent(dest); err != nil {
		return &FetchError{URL: rawURL, Err: err}
	}
	return d.retry(ctx, rawURL, func(ctx context.Context) (int, error) {
		return d.once(ctx, rawURL, dest, want, size)
	})
}

// once makes one attempt at Download.
func (d *Downloader) once(parent context.Context, rawURL, dest string, want Checksum, size int64) (int, error) {
	ctx, rw, stop := d.watch(parent)
	defer stop()
	rc, status, err := d.open(ctx, rawURL)
	if err != nil {
		return status, stalled(parent, ctx, err)
	}
	defer rc.Close()
	// A server that sends more than the metadata announces, or than the
	// cap when it announces nothing, is not allowed to fill the disk.
	limit, declared := size, true
	if size <= 0 {
		limit, declared = d.maxSize(), false
	}
	body := io.LimitReader(countingReader{rc, rw}, limit+1)
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
	if n > limit {
		return status, &SizeError{Limit: limit, Declared: declared}
	}
	if size > 0 && n < size {
		return status, retryable{fmt.Errorf("truncated body: got %d bytes, want %d", n, size)}
	}
	if h != nil {
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want.Value) {
			return status, &ChecksumError{URL: rawURL, Type: want.Type, Expected: want.Value, Got: got}
		}
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
	var b []byte
	err := d.retry(ctx, rawURL, func(ctx context.Context) (int, error) {
		var status int
		var err error
		b, status, err = d.getOnce(ctx, rawURL)
		return status, err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// maxGet bounds what Get reads: repomd.xml, keys and mirror lists are
// small, and a larger answer is refused rather than cut.
const maxGet = 64 << 20

// getOnce makes one attempt at Get.
func (d *Downloader) getOnce(parent context.Context, rawURL string) ([]byte, int, error) {
	ctx, rw, stop := d.watch(parent)
	defer stop()
	body, status, err := d.open(ctx, rawURL)
	if err != nil {
		return nil, status, stalled(parent, ctx, err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(countingReader{body, rw}, maxGet+1))
	if err != nil {
		if parent.Err() != nil {
			return nil, status, parent.Err()
		}
		return nil, status, stalled(parent, ctx, retryable{fmt.Errorf("read body: %w", err)})
	}
	if len(b) > maxGet {
		return nil, status, &SizeError{Limit: maxGet, Cap: "the bound for repomd.xml, keys and mirror lists"}
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
