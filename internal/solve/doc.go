// Package solve owns dependency resolution over yum package sets: rpm's
// version order (Vercmp, CompareEVR), dependency ranges (Overlaps),
// rich dependencies (ParseRich), the resolver (Resolve, Pool.Resolve)
// and rpm's install order (Transaction.Order). It takes plain
// *yum.Package values and leaves reading metadata to internal/yum and
// installing to sew.
//
// A job's spec is read as dnf reads a pkgspec (pkgspec.go, libdnf's
// Solution::getBestSolution): the NEVRA forms in libdnf's order
// (name-[epoch:]version-release.arch, name.arch, name,
// name-[epoch:]version-release, name-[epoch:]version), a glob on the
// whole NEVRA, a provide, a file; the first form matching anything wins.
// A glob gives one job per name (per name and arch for a glob in the
// arch), as dnf's _get_best_selectors. With Request.Best (dnf's
// best=True) each job is narrowed to what libsolv's best rule keeps
// (best.go); a failure that only the narrowing causes is a BestError.
// Comps conditional packages (Request.Conditional) join once their
// requirement is in the transaction.
//
// Start at Resolve: it indexes the packages (Pool), compiles each
// dependency it meets into clauses over package ids (a rich dependency
// through conjunctive normal form), and runs a backtracking search whose
// decision order copies libsolv's solver_run_sat (search.go), so it
// picks what dnf picks:
//
//   - jobs first, in order;
//   - then resolve_dependencies: the Requires clauses of installed
//     packages in libsolv's rule order (package by package, the highest
//     package id, i.e. the last in metadata order, first; within a
//     package by literal list), going round from the last decision
//     until a whole round decides nothing; clauses the policy cannot
//     narrow to one candidate are put off until nothing else is left;
//   - then resolve_weak, in rounds: the candidates of every open
//     Recommends and every supplementing package are pruned together,
//     supplementing ones installed, then each recommendation in install
//     order, before the Requires they bring are decided again;
//   - then minimization: a choice whose other candidate got installed
//     later anyway (or is recommended while the one taken is not) is
//     redone with that candidate, and everything after it decided again.
//
// Candidates are ordered by libsolv's policy_filter_unwanted (see
// policy.go). Installing a package propagates at once: what it
// conflicts with, obsoletes or shares a name and arch with is ruled
// out, and a clause left with one candidate is applied.
//
// dnf_test.go checks these choices against the real dnf on repositories
// built with rpmbuild and createrepo_c (TestMatchesDnf, which needs dnf
// and rpmbuild); a difference found there is a bug here. On Debian's
// index turned into a yum repository (bench/resolve) the sets equal
// dnf's for every request measured (docs/benchmarks.md, "Resolving").
// Known differences from libsolv: conflicts are handled by chronological
// backtracking rather than clause learning, and a clause made unit by a
// package being ruled out is applied when the round reaches it rather
// than at once; neither showed on those requests.
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
//
// A locked install (sew --locked) does not resolve: sew takes the pinned
// packages, adds for each rpms entry no pin covers the package [Best]
// picks, and asks [Unmet] whether the set covers its own requirements
// (locked.go).
package solve
