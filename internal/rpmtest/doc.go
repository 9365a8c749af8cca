// Package rpmtest builds real RPMs, real repodata and real HTTP servers for
// tests: tiny packages described in Go (Pkg), built with nfpm (BuildNfpm)
// or with the system's rpmbuild (BuildRpmbuild), indexed with createrepo_c
// (Createrepo) and served on 127.0.0.1 (Serve). It is for tests only; no
// binary RPM is ever committed.
//
// NeedTool gates tests on the real tools used as oracles: in CI
// (SOCK_CI_ORACLES=1) a missing tool fails the test, elsewhere it skips.
package rpmtest
