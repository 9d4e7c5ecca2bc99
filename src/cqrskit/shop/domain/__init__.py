"""The shop's pure domain: commands, events, states, deciders. No I/O."""
