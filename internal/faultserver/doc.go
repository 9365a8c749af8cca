// Package faultserver is a test-only HTTP server that serves a directory
// (a yum repository) on 127.0.0.1 and injects faults into its answers:
// 500 and 503 statuses, reset connections, bodies cut short of their
// Content-Length, a corrupted byte, stalls longer than the client's
// timeout, a body trickled one byte at a time (below dnf's minrate), and
// a repomd.xml that does not match its files.
//
// It owns the faults and their bookkeeping (how many requests, how many
// faults); what a fault must do to sew is for the tests that use it, in
// sew/fault_test.go. Start is the entry point. The server is bounded: it
// closes at the end of the test, after Options.MaxRequests requests and
// after Options.MaxAge, whichever comes first, so a runaway client cannot
// keep it busy.
package faultserver
