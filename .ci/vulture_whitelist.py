"""Names that vulture (.ci/run: dead code at its default 60% confidence) cannot see used,
because a library, the student's side or a file's reader uses them, not our Python."""
from types import SimpleNamespace

_ = SimpleNamespace()

_used = [
    # The student's networks (kuzu.py): kuzu_main.py builds them by name (--net).
    _.NetLin, _.NetFull, _.NetConv,
    # numba reads its config attribute (nnlab/compiled.py); matplotlib an axis' labelpad.
    _.CACHE_DIR, _.labelpad,
    # numba's @overload registers these: each network kind's pieces (recurrent/kernels.py).
    _._buffers_of_kind, _._forward_of_kind, _._backward_of_kind,
    # The explore page's graph walker finds a step's method as getattr(self, f'_{op}').
    _._linear, _._conv2d, _._max_pool2d, _._avg_pool2d, _._adaptive_avg_pool2d, _._mean,
    _._batch_norm,
    # Fields of the typed records, written for their readers (the page, the person).
    _.train_images, _.minimal_states, _.state_of_cluster, _.agrees_up_to, _.check_every,
    _.model_fingerprint, _.checks_used, _.seconds_training, _.predicts,
]
