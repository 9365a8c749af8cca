package solve

import (
	"sort"

	"github.com/sock-project/sock/internal/yum"
)

// Order returns the transaction's packages in the order rpm installs
// them, following rpm's lib/order.c: a package comes after the
// packages its Requires resolve to; strongly connected components
// (dependency loops) are found with Tarjan's algorithm and broken by
// starting from the members farthest, through the loop's edges, from a
// Requires(pre) relation, so pre-requirements are honoured first; ready
// packages are queued by how many packages require them (most first).
// The start order is by name and arch, so the result is deterministic.
// Rich Requires do not order (rpm orders only by plain ones it can
// match to one package), and neither do triggers: rpm 4.18 records no
// tsort relation for them (TestOrderSameAsRPM checks against its
// "tsorting packages" log).
func (t *Transaction) Order() []*yum.Package {
	n := len(t.Items)
	pkgs := make([]*yum.Package, n)
	for i, it := range t.Items {
		pkgs[i] = it.Package
	}
	sort.SliceStable(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
	pool := NewPool(pkgs)
	nodes := make([]tsNode, n)
	for i := range nodes {
		nodes[i].scc = 0
	}
	// Record "q <- p" relations (p requires q). rpm prepends to lists.
	for pi, p := range pkgs {
		for _, d := range p.Requires() {
			if IsRich(d.Name) || len(d.Name) > 7 && d.Name[:7] == "rpmlib(" {
				continue
			}
			prov := pool.whatProvides(d, nil)
			if len(prov) == 0 {
				continue
			}
			qi := int(prov[0]) // rpmalSatisfiesDepend: the first provider
			if qi == pi {
				continue
			}
			flags := 0
			if d.Pre {
				flags = 1
			}
			if rel := nodes[qi].rels; len(rel) > 0 && rel[0].suc == pi {
				nodes[qi].rels[0].flags |= flags
				nodes[pi].fwd[0].flags |= flags
				continue
			}
			nodes[pi].count++
			nodes[qi].rels = append([]tsRel{{pi, flags}}, nodes[qi].rels...)
			nodes[qi].qcnt++
			nodes[pi].fwd = append([]tsRel{{qi, flags}}, nodes[pi].fwd...)
		}
	}
	o := &orderer{nodes: nodes}
	o.detectSCCs()
	var q []int
	for i := range nodes {
		if nodes[i].count == 0 {
			q = o.addQ(q, i)
		}
	}
	for k := 2; k < len(o.sccs); k++ {
		if o.sccs[k].count == 0 {
			q = o.addQ(q, o.sccs[k].members[0])
		}
	}
	for len(q) > 0 {
		i := q[0]
		q = q[1:]
		if nodes[i].scc == 0 {
			continue
		}
		if nodes[i].scc > 1 {
			q = o.collectSCC(i, q)
		} else {
			q = o.collectTE(i, q, nil)
		}
	}
	out := make([]*yum.Package, len(o.order))
	for i, id := range o.order {
		out[i] = pkgs[id]
	}
	return out
}

type tsRel struct {
	suc   int
	flags int
}

type tsNode struct {
	count, qcnt int
	rels, fwd   []tsRel
	scc, low    int
	idx         int
}

type tsSCC struct {
	count   int
	members []int
}

type orderer struct {
	nodes []tsNode
	sccs  []tsSCC
	order []int
}

// addQ inserts i in the queue before the first entry required by no
// more packages than i (rpm's addQ on tsi_qcnt).
func (o *orderer) addQ(q []int, i int) []int {
	k := 0
	for ; k < len(q); k++ {
		if o.nodes[q[k]].qcnt <= o.nodes[i].qcnt {
			break
		}
	}
	q = append(q, 0)
	copy(q[k+1:], q[k:])
	q[k] = i
	return q
}

func (o *orderer) detectSCCs() {
	o.sccs = make([]tsSCC, 2)
	index := 0
	var stack []int
	var tarjan func(v int)
	tarjan = func(v int) {
		index--
		o.nodes[v].scc, o.nodes[v].low = index, index
		stack = append(stack, v)
		for _, r := range o.nodes[v].rels {
			w := r.suc
			if o.nodes[w].scc > 0 {
				continue
			}
			if o.nodes[w].scc == 0 {
				tarjan(w)
				o.nodes[v].low = max(o.nodes[v].low, o.nodes[w].low)
			} else {
				o.nodes[v].low = max(o.nodes[v].low, o.nodes[w].scc)
			}
		}
		if o.nodes[v].low != o.nodes[v].scc {
			return
		}
		if stack[len(stack)-1] == v {
			stack = stack[:len(stack)-1]
			o.nodes[v].scc = 1
			return
		}
		k := len(o.sccs)
		i := len(stack)
		for {
			i--
			o.nodes[stack[i]].scc = k
			if stack[i] == v {
				break
			}
		}
		sc := tsSCC{members: append([]int(nil), stack[i:]...)}
		for _, m := range sc.members {
			sc.count += o.nodes[m].count
			for _, r := range o.nodes[m].rels {
				if r.suc != m && o.nodes[r.suc].scc == k {
					sc.count--
				}
			}
		}
		o.sccs = append(o.sccs, sc)
		stack = stack[:i]
	}
	for v := range o.nodes {
		if o.nodes[v].scc == 0 {
			tarjan(v)
		}
	}
}

// collectTE emits i and releases what waited on it. Inside a loop,
// packages outside it go to outer.
func (o *orderer) collectTE(i int, q []int, outer *[]int) []int {
	o.order = append(o.order, i)
	ni := &o.nodes[i]
	for _, r := range ni.rels {
		p := r.suc
		np := &o.nodes[p]
		if np.scc == 0 || p == i {
			continue
		}
		np.count--
		if np.count == 0 {
			if ni.scc > 1 && ni.scc != np.scc && outer != nil {
				*outer = o.addQ(*outer, p)
			} else {
				q = o.addQ(q, p)
			}
		}
		if np.scc > 1 && np.scc != ni.scc {
			o.sccs[np.scc].count--
			if o.sccs[np.scc].count == 0 {
				if outer != nil {
					*outer = o.addQ(*outer, p)
				} else {
					q = o.addQ(q, p)
				}
			}
		}
	}
	ni.scc = 0
	return q
}

// collectSCC emits a whole loop: members are scored by their distance
// from a Requires(pre) relation inside the loop, the farthest starts.
func (o *orderer) collectSCC(p int, outer []int) []int {
	k := o.nodes[p].scc
	sc := o.sccs[k]
	const inf = int(^uint(0) >> 1)
	var queue []int
	for _, m := range sc.members {
		o.nodes[m].low = inf
		for _, r := range o.nodes[m].fwd {
			if r.flags != 0 && o.nodes[r.suc].scc == k {
				if r.suc != m {
					o.nodes[m].low = 0
					queue = append(queue, m)
				} else {
					o.nodes[m].low = inf / 2
				}
				break
			}
		}
	}
	if len(queue) == 0 {
		for _, m := range sc.members {
			if o.nodes[m].low != inf {
				queue = append(queue, m)
			}
		}
	}
	for h := 0; h < len(queue); h++ {
		t := queue[h]
		for _, r := range o.nodes[t].fwd {
			if o.nodes[r.suc].scc != k {
				continue
			}
			if o.nodes[r.suc].low > o.nodes[t].low+1 {
				o.nodes[r.suc].low = o.nodes[t].low + 1
				queue = append(queue, r.suc)
			}
		}
	}
	for {
		best, score := -1, 0
		for _, m := range sc.members {
			if o.nodes[m].scc == 0 {
				continue
			}
			if o.nodes[m].low >= score {
				best, score = m, o.nodes[m].low
			}
		}
		if best < 0 {
			break
		}
		inner := []int{best}
		for len(inner) > 0 {
			x := inner[0]
			inner = inner[1:]
			if o.nodes[x].scc == 0 {
				continue
			}
			inner = o.collectTE(x, inner, &outer)
		}
	}
	return outer
}
