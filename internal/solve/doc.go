// Package solve owns dependency resolution over yum package sets: rpm's
// version order (Vercmp, CompareEVR), dependency ranges (Overlaps),
// rich dependencies (ParseRich), the resolver (Resolve, Pool.Resolve)
// and rpm's install order (Transaction.Order). It takes plain
// *yum.Package values and leaves reading metadata to internal/yum and
// installing to sew.
//
// Start at Resolve: it indexes the packages (Pool), compiles each
// dependency it meets into clauses over package ids (a rich dependency
// through conjunctive normal form), and runs a backtracking search whose
// decision order copies libsolv's, so it picks what dnf picks: jobs
// first, then every unsatisfied Requires in install order, then
// Recommends, then Supplements. Candidates are ordered by libsolv's
// policy_filter_unwanted (see policy.go). Installing a package
// propagates at once: what it conflicts with, obsoletes or shares a
// name and arch with is ruled out, and a Requires left with one
// candidate installs it.
//
// dnf_test.go checks these choices against the real dnf on repositories
// built with rpmbuild and createrepo_c (TestMatchesDnf, which needs dnf
// and rpmbuild); a difference found there is a bug here. Known gap:
// libsolv decides open requirements in the order of its rules, built
// over the whole reachable closure, and this search in install order,
// so on distribution-sized requests an "or" may get a different
// alternative (docs/benchmarks.md, "Resolving").
//
// Why not a general SAT solver (gophersat): a SAT model is any model,
// while dnf's answer is the one libsolv's decision order reaches; a
// search that makes the same decisions in the same order gives the same
// answer, and it explains failures along the path a person expects.
// The search backtracks chronologically, which is complete; a step
// limit guards against pathological repositories.
//
// Version comparison is our own rpmvercmp port rather than
// knqyf263/go-rpm-version: that library splits with a regexp and
// compares with reflect.DeepEqual on every call, and the resolver
// compares versions millions of times; ours allocates nothing and the
// tests check it against rpm's own rpm.vercmp on 5,000 random pairs.
package solve
