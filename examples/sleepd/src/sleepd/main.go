// Command sleepd is the service of sock's example: it sleeps, and says so
// to syslog over UDP (as the old kit recommended for chrooted services,
// which have no /dev/log), until SIGTERM, when it says goodbye and exits.
//
//	sleepd [-config /etc/sleepd.conf] [-once]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type config struct {
	syslog   string        // host:port of a syslog server, UDP
	interval time.Duration // how long each sleep lasts
	message  string
}

func main() {
	path := flag.String("config", "/etc/sleepd.conf", "configuration `file`")
	once := flag.Bool("once", false, "log one message and exit")
	flag.Parse()
	cfg, err := load(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sleepd: %v\n", err)
		os.Exit(1)
	}
	logf := logger(cfg.syslog)
	logf("%s (uid %d, pid %d)", cfg.message, os.Getuid(), os.Getpid())
	if *once {
		return
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	tick := time.NewTicker(cfg.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			logf("still sleeping")
		case s := <-stop:
			logf("got %v, stopping", s)
			return
		}
	}
}

func load(path string) (config, error) {
	cfg := config{syslog: "127.0.0.1:514", interval: time.Minute, message: "sleepd started"}
	f, err := os.Open(path)
	if err != nil {
		return cfg, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return cfg, fmt.Errorf("%s:%d: want key = value", path, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "syslog":
			cfg.syslog = v
		case "interval":
			d, err := time.ParseDuration(v)
			if err != nil {
				return cfg, fmt.Errorf("%s:%d: interval: %v", path, n, err)
			}
			cfg.interval = d
		case "message":
			cfg.message = v
		default:
			return cfg, fmt.Errorf("%s:%d: unknown key %q", path, n, k)
		}
	}
	return cfg, sc.Err()
}

// logger sends RFC 3164 messages (facility daemon, level info) to the
// syslog server, and to stderr as well.
func logger(addr string) func(format string, args ...any) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sleepd: syslog %s: %v\n", addr, err)
	}
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintf(os.Stderr, "sleepd: %s\n", msg)
		if conn != nil {
			fmt.Fprintf(conn, "<30>%s sleepd[%d]: %s", time.Now().Format(time.Stamp), os.Getpid(), msg)
		}
	}
}
