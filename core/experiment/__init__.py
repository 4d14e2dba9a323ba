"""Looking at an experiment before it runs: the augmentation preview. The experiment id
itself is ``core.hashing`` (a foundation every layer may use); what a configuration would
do against the experiments so far is ``core.history.preview``."""
