package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sock-project/sock/toe"
)

// specFlags are the flags of every command that reads a nail.
type specFlags struct {
	set   []string
	nails []string
}

func (f *specFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.set, "set", nil, "override a variable: `key=value` (repeatable)")
	fs.StringArrayVar(&f.nails, "nails", nil, "also look for included nails in `DIR` (repeatable)")
}

// options turns the flags into toe's options; a --set without "=" is a
// usage error.
func (f *specFlags) options() (toe.Options, error) {
	opts := toe.Options{NailPath: f.nails}
	for _, kv := range f.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, usageError{fmt.Errorf("--set %q: want key=value", kv)}
		}
		if opts.Set == nil {
			opts.Set = map[string]string{}
		}
		opts.Set[k] = v
	}
	return opts, nil
}
