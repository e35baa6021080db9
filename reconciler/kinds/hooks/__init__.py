"""Kind hooks: the rules of a kind that its data (:class:`reconciler.kinds.Kind`) cannot say.

The generic engine (the planner, the live reader) calls the hooks of every kind and never
names one; a kind that needs more than the defaults of :mod:`.base` names a module here in
its ``hooks_module``, which defines ``HOOKS``. These modules work on plans, so they are
loaded on first use (the plan layer itself reads the kinds); the kind registry does not
import them. See docs/architecture.md.
"""
