"""Great Expectations suites that gate each layer of the warehouse."""
