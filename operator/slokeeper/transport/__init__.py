"""What the Kubernetes and Prometheus adapters share about HTTP: a total deadline on every request
(``deadline``) and a few words on why a server did not answer (``no_answer``). Imports nothing of
slokeeper, so both adapters (siblings that may not import each other) can use it."""
