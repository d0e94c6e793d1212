"""Settings for the benchmark server: the app's settings plus two bench-only endpoints
(``bench_urls``). Never used by the app itself."""

from seeme.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
