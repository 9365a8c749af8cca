package faultserver

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is one kind of misbehaviour.
type Fault int

// The faults the server can inject.
const (
	None      Fault = iota
	Status500       // answer 500 Internal Server Error
	Status503       // answer 503 Service Unavailable
	Reset           // hijack the connection and close it before answering
	Truncate        // send the full Content-Length, half the body, then close
	Corrupt         // send the body with one byte flipped
	Stall           // send nothing for Options.Stall, then answer normally
	StallBody       // send the headers and half the body, then nothing for Options.Stall
	BadRepomd       // serve a repomd.xml whose checksums match none of its files
	Trickle         // send the headers, then the body one byte every Options.Gap
)

var names = map[Fault]string{
	None: "none", Status500: "500", Status503: "503", Reset: "reset", Truncate: "truncate",
	Corrupt: "corrupt", Stall: "stall", StallBody: "stall-body", BadRepomd: "bad-repomd", Trickle: "trickle",
}

func (f Fault) String() string { return names[f] }

// Options say which requests get which fault.
type Options struct {
	Fault Fault
	// Every: the server counts the requests for each path, and requests
	// 1, Every+1, 2*Every+1 … of each path get the fault. 1 (or 0)
	// faults every request: a permanent fault. 2 faults the first try
	// and lets the retry through: a transient one.
	Every int
	// Match selects the paths that may get the fault (nil: all). Paths
	// are the request's URL path, starting with "/".
	Match func(path string) bool
	// Stall is how long Stall and StallBody hold the answer; default 10 s.
	// The wait ends early when the client goes away or the server closes.
	Stall time.Duration
	// Gap is the wait between the bytes of a Trickle; default 20 s.
	Gap time.Duration
	// MaxRequests closes the server after that many requests; default
	// 10,000.
	MaxRequests int
	// MaxAge closes the server after that long; default 5 minutes.
	MaxAge time.Duration
}

// Server is a running fault-injecting server.
type Server struct {
	// URL is the base URL, ending in "/".
	URL string

	dir  string
	srv  *httptest.Server
	done chan struct{}

	mu       sync.Mutex
	opts     Options
	perPath  map[string]int
	requests int
	faults   int
	log      []string
	closed   bool
}

// Start serves dir with opts until the test ends (or a bound is reached).
func Start(t testing.TB, dir string, opts Options) *Server {
	t.Helper()
	s := &Server{dir: dir, perPath: map[string]int{}, done: make(chan struct{})}
	s.Set(opts)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Start()
	if !strings.HasPrefix(s.srv.URL, "http://127.0.0.1:") {
		s.srv.Close()
		t.Fatalf("fault server listens on %s, not 127.0.0.1", s.srv.URL)
	}
	s.URL = s.srv.URL + "/"
	maxAge := opts.MaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	timer := time.AfterFunc(maxAge, s.Close)
	t.Cleanup(func() { timer.Stop(); s.Close() })
	return s
}

// Set changes the fault for the requests to come (and resets the
// per-path counts): Set(Options{}) makes the server healthy.
func (s *Server) Set(opts Options) {
	if opts.Every <= 0 {
		opts.Every = 1
	}
	if opts.Stall <= 0 {
		opts.Stall = 10 * time.Second
	}
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = 10000
	}
	if opts.Gap <= 0 {
		opts.Gap = 20 * time.Second
	}
	s.mu.Lock()
	s.opts = opts
	s.perPath = map[string]int{}
	s.mu.Unlock()
}

// Close stops the server and ends any stall at once. It may be called
// more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests is how many requests the server received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Faults is how many requests got a fault.
func (s *Server) Faults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Log lists the faults injected, "fault path", in order.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// decide counts the request and says which fault it gets.
func (s *Server) decide(p string) (Fault, Options, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	o := s.opts
	if s.requests > o.MaxRequests {
		return None, o, false
	}
	if o.Fault == None || (o.Match != nil && !o.Match(p)) {
		return None, o, true
	}
	if o.Fault == BadRepomd && path.Base(p) != "repomd.xml" {
		return None, o, true
	}
	s.perPath[p]++
	if (s.perPath[p]-1)%o.Every != 0 {
		return None, o, true
	}
	s.faults++
	s.log = append(s.log, o.Fault.String()+" "+p)
	return o.Fault, o, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	fault, o, ok := s.decide(r.URL.Path)
	if !ok {
		// The request budget is spent: close, from outside the handler
		// (Close waits for handlers).
		go s.Close()
		http.Error(w, "fault server: request budget spent", http.StatusServiceUnavailable)
		return
	}
	body, err := s.read(r.URL.Path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch fault {
	case Status500:
		http.Error(w, "injected fault", http.StatusInternalServerError)
		return
	case Status503:
		http.Error(w, "injected fault", http.StatusServiceUnavailable)
		return
	case Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("faultserver: connection cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case Truncate:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection short of its length
	case Corrupt:
		body = bytes.Clone(body)
		if len(body) > 0 {
			body[len(body)/2] ^= 0x55
		}
	case Stall:
		if !s.sleep(r, o.Stall) {
			return
		}
	case StallBody:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		if s.sleep(r, o.Stall) {
			w.Write(body[len(body)/2:])
		}
		return
	case Trickle:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		for i := range body {
			w.Write(body[i : i+1])
			w.(http.Flusher).Flush()
			if !s.sleep(r, o.Gap) {
				return
			}
		}
		return
	case BadRepomd:
		body = spoilChecksums(body)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// sleep waits d, or less if the client leaves or the server closes; it
// reports whether the whole time passed.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// read returns the file at the URL path p inside the directory.
func (s *Server) read(p string) ([]byte, error) {
	clean := path.Clean("/" + p)
	full := filepath.Join(s.dir, filepath.FromSlash(clean))
	st, err := os.Stat(full)
	if err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a file: %s", clean)
	}
	return os.ReadFile(full)
}

var checksumRE = regexp.MustCompile(`(<(?:open-)?checksum type="[a-z0-9]+">)([0-9a-f])`)

// spoilChecksums changes the first digit of every checksum in a
// repomd.xml, as a mirror caught between two syncs would serve it.
func spoilChecksums(b []byte) []byte {
	return checksumRE.ReplaceAllFunc(b, func(m []byte) []byte {
		m = bytes.Clone(m)
		last := len(m) - 1
		if m[last] == '0' {
			m[last] = '1'
		} else {
			m[last] = '0'
		}
		return m
	})
}
