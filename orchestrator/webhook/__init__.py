"""The Alertmanager webhook receiver: notifications in, Incident objects out.

- `payload.py`: Alertmanager's webhook notification (version 4), checked;
- `record.py`: what an Incident made from alerts holds (its name from the group key, its spec from the
  template and the alerts, the per-fingerprint record in its annotations), as pure functions;
- `store.py`: creating and joining Incidents through the Kubernetes API, race-safe across replicas;
- `server.py`: the aiohttp application (bearer token, 400 for a bad payload, 503 for a failing cluster).

`sre-agent operator webhook` runs it. aiohttp and the kubernetes client are imported by `server.py` and
`store.py` only, never by this package's import.
"""
