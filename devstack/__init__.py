"""Development stack: provisions Kafka and FerretDB and runs the system on one machine.

Used by `make run`, `make up`, `make down` and `make test`; production uses docker-compose.
"""
