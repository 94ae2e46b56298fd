"""Warm reads in one process: `get_secret` through the vdk:secrets component against VDK's
generated client reading the set (upstream's `get_secret` reads the whole set), each the
median of N calls after a warm-up, in microseconds.

    python get_secret_calls.py URL TEAM JOB N
"""

import statistics
import sys
import time

from taurus_datajob_api import ApiClient, Configuration, DataJobsSecretsApi

from vdk_secrets_wasm.component import Config, SecretsComponent

url, team, job, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def median_us(call):
    for _ in range(10):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


component = SecretsComponent(Config(url, team, job))
ours = median_us(lambda: component.get_secret("db_password"))
with ApiClient(Configuration(host=url)) as client:
    api = DataJobsSecretsApi(client)
    theirs = median_us(lambda: api.data_job_secrets_read(team, job, "TODO")["db_password"])
print(f"{ours:.0f} {theirs:.0f}")
