"""mcvp: the small helper package of the *Modern Computer Vision with PyTorch* course.

It holds what is not the lesson: data acquisition (:mod:`mcvp.data`), smoke-mode budgets,
seeding, device choice and result recording (:mod:`mcvp.runtime`), and the course map
(:mod:`mcvp.course`). Everything a learner studies lives in the notebooks themselves.
"""

from mcvp.runtime import budget, get_device, is_smoke, record, seed_everything

__all__ = ["budget", "get_device", "is_smoke", "record", "seed_everything"]
__version__ = "0.1.0"
