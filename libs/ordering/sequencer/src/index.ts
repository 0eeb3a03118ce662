// Public API of @seqcast/ordering-sequencer.
