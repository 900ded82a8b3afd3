"""Many hosts: a batch read on a Ray cluster (the optional ``dualread[cluster]`` extra).

:mod:`driver` lists the work and writes the results, :mod:`node` is the actor that reads on one
node with that node's servers, :mod:`manifest` remembers what is done. Nothing here imports Ray
until a batch runs, so the rest of dualread works without it.
"""
