"""`sre-agent bench`: run models × mitigations × seeds over a scenario suite and score every run.

suite.py finds the cases (builtin or an ITBench folder), truth.py scores a diagnosis against ground truth,
runner.py runs one case in-process and inspects the cluster it leaves, results.py aggregates arms and
detector accuracy, report.py writes the tables, plots and HTML.
"""
