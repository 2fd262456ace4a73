"""What the three services share: settings, events, Kafka and MongoDB adapters, auth, errors."""
