// Package sleepd holds the test of sock's bundled example; the example
// itself is sleepd.toml, demo.sh and the sources in src/.
package sleepd
