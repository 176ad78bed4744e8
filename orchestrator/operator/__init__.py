"""Run incidents in the cluster: the Incident custom resource and the operator that works them.

- `crd`: the CustomResourceDefinition, generated from the Incident models (`sre-agent crd`);
- `status`: the Incident's status (phase, conditions, claim, diagnosis, change, verdict, approval);
- `incidents`: an Incident object → the engine's Incident, and the status a run's events and result give;
- `approvals`: the Approver that waits on an Incident's annotations (`sre-agent.dev/approve=<id>`);
- `executor`: one Incident run to its end with its status kept current (in the operator, or a Job);
- `controller`: `sre-agent operator run`, kopf's handlers, the queue and the claim.

kopf is imported only by `controller`, so the CLI's --help and `sre-agent crd` never load it.
"""
