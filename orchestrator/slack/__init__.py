"""The Slack front-end (`sre-agent slack`): investigations started from a mention, a slash command, a
message shortcut or an Alertmanager alert posted in a watched channel, each in its own thread with one
progress message, Approve/Reject buttons for every proposed write, and the verdict and report.html at the
end. Runs go through the engine's one API, `run_incident`; nothing here changes how a run decides.

slack_bolt and slack_sdk are imported only by `app.py` and the modules that talk to Slack, so the CLI's
`--help` never loads them.
"""
