# protoc --python_out output of proto/archolt/ozmap/v1/*.proto, committed:
# regenerate with `make clients-python-proto`; `make proto-check` fails while it is stale.
