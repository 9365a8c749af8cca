// Command logcatch is the syslog server of sock's example: it listens on
// a UDP address, prints the first N messages it receives, and exits (or
// gives up after a timeout).
//
//	logcatch -addr 127.0.0.1:5514 -n 1 -timeout 10s
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5514", "UDP `address` to listen on")
	n := flag.Int("n", 1, "messages to print before exiting")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	ready := flag.String("ready", "", "create this `file` once listening")
	flag.Parse()
	pc, err := net.ListenPacket("udp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "logcatch: %v\n", err)
		os.Exit(1)
	}
	defer pc.Close()
	if *ready != "" {
		os.WriteFile(*ready, nil, 0o644)
	}
	pc.SetDeadline(time.Now().Add(*timeout))
	buf := make([]byte, 4096)
	for i := 0; i < *n; i++ {
		m, _, err := pc.ReadFrom(buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "logcatch: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("syslog: %s\n", buf[:m])
	}
}
