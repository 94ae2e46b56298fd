"""Reads a job's secrets with VDK's generated Control Service API client, as a Python job
process would: the baseline of scripts/bench-runner.sh's cold-start comparison.

    python3 read_secrets.py URL TEAM JOB
"""
import sys

from taurus_datajob_api import ApiClient, Configuration, DataJobsSecretsApi

url, team, job = sys.argv[1:4]
with ApiClient(Configuration(host=url)) as client:
    secrets = DataJobsSecretsApi(client).data_job_secrets_read(team, job, "TODO")
print(f"secrets: {len(secrets)}")
