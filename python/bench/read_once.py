"""One fresh process's read of a job's secrets, as a job start does it: through the
vdk:secrets component (`component`, compiled component cached) or with VDK's generated
Control Service client (`upstream`, vdk-control-service-api), or nothing (`none`, the bare
interpreter start to subtract).

    python read_once.py component|upstream|none URL TEAM JOB
"""

import sys

how, url, team, job = sys.argv[1:5]
if how == "component":
    from vdk_secrets_wasm.component import Config, SecretsComponent

    secrets = SecretsComponent(Config(url, team, job)).get_all_secrets()
elif how == "upstream":
    from taurus_datajob_api import ApiClient, Configuration, DataJobsSecretsApi

    with ApiClient(Configuration(host=url)) as client:
        secrets = DataJobsSecretsApi(client).data_job_secrets_read(team, job, "TODO")
else:
    secrets = {}
print(len(secrets))
