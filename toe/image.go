package toe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Image is the [image] table: the container image config that `sock pair
// --format oci` (and oci-archive) writes beside the SOCK's layer. Every
// key is optional; the architecture comes from the FOOT's arch and the
// OS is always linux.
type Image struct {
	// Tag names the image in the layout's index.json
	// (org.opencontainers.image.ref.name); default "${version}-${release}".
	Tag        string   `toml:"tag,omitempty" json:"tag,omitempty"`
	Entrypoint []string `toml:"entrypoint,omitempty" json:"entrypoint,omitempty"`
	Cmd        []string `toml:"cmd,omitempty" json:"cmd,omitempty"`
	// User is "name", "uid", "name:group" or "uid:gid".
	User string `toml:"user,omitempty" json:"user,omitempty"`
	// Env is written as NAME=value, sorted by name.
	Env     map[string]string `toml:"env,omitempty" json:"env,omitempty"`
	Workdir string            `toml:"workdir,omitempty" json:"workdir,omitempty"`
	Labels  map[string]string `toml:"labels,omitempty" json:"labels,omitempty"`
	// ExposedPorts are "PORT/tcp", "PORT/udp" or "PORT/sctp"; a bare
	// "PORT" is written "PORT/tcp" in the FOOT.
	ExposedPorts []string `toml:"exposed_ports,omitempty" json:"exposed_ports,omitempty"`
}

// imageTag is the OCI (and Docker) tag grammar.
var imageTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// checkImage validates one nail's [image] table after expansion and makes
// its values canonical (ports with a protocol, workdir clean).
func (r *resolver) checkImage(n *nail) {
	img, d := n.doc.Foot.Image, n.dec
	if img == nil {
		return
	}
	if d.present["image.tag"] && !imageTag.MatchString(img.Tag) {
		r.errorf(d.valPos("image.tag"), "tag %q is not an image tag (letters, digits, _ . -, at most 128, not starting with . or -)", img.Tag)
	}
	if d.present["image.user"] && (img.User == "" || strings.ContainsAny(img.User, " \t\n") || strings.Count(img.User, ":") > 1) {
		r.errorf(d.valPos("image.user"), "user %q: want name, uid, name:group or uid:gid", img.User)
	}
	if d.present["image.workdir"] {
		if !strings.HasPrefix(img.Workdir, "/") {
			r.errorf(d.valPos("image.workdir"), "workdir %q is not an absolute path", img.Workdir)
		} else if clean, ok := sockPath(img.Workdir); ok {
			img.Workdir = clean
		}
	}
	if img.Entrypoint != nil && len(img.Entrypoint) == 0 {
		r.errorf(d.valPos("image.entrypoint"), "entrypoint is empty")
	}
	for _, k := range sortedKeys(img.Env) {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			r.errorf(d.keyPos("image.env."+k), "env name %q is not a variable name", k)
		}
	}
	for _, k := range sortedKeys(img.Labels) {
		if k == "" {
			r.errorf(d.keyPos("image.labels."+k), "label name is empty")
		}
	}
	for i, p := range img.ExposedPorts {
		c, err := canonicalPort(p)
		if err != nil {
			r.errorf(d.valPos(fmt.Sprintf("image.exposed_ports#%d", i)), "exposed_ports entry %v", err)
			continue
		}
		img.ExposedPorts[i] = c
	}
}

// canonicalPort turns "80", "80/tcp", "53/udp" or "9/sctp" into
// "PORT/PROTO".
func canonicalPort(p string) (string, error) {
	num, proto, hasProto := strings.Cut(p, "/")
	if !hasProto {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != num {
		return "", fmt.Errorf("%q: want PORT or PORT/PROTO with PORT from 1 to 65535", p)
	}
	switch proto {
	case "tcp", "udp", "sctp":
		return num + "/" + proto, nil
	}
	return "", fmt.Errorf("%q: protocol %q is not tcp, udp or sctp", p, proto)
}

// mergeImage merges the nails' [image] tables in load order (includes
// first): a key a later nail sets replaces the earlier value, except env
// and labels, which merge name by name. nil when no nail has the table.
func (r *resolver) mergeImage() *Image {
	var out *Image
	for _, n := range r.l.nails {
		img, d := n.doc.Foot.Image, n.dec
		if img == nil {
			continue
		}
		if out == nil {
			out = &Image{}
		}
		set := func(key string) bool { return d.present["image."+key] }
		if set("tag") {
			out.Tag = img.Tag
		}
		if set("entrypoint") {
			out.Entrypoint = img.Entrypoint
		}
		if set("cmd") {
			out.Cmd = img.Cmd
		}
		if set("user") {
			out.User = img.User
		}
		if set("workdir") {
			out.Workdir = img.Workdir
		}
		if set("exposed_ports") {
			out.ExposedPorts = img.ExposedPorts
		}
		for k, v := range img.Env {
			if out.Env == nil {
				out.Env = map[string]string{}
			}
			out.Env[k] = v
		}
		for k, v := range img.Labels {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	return out
}
