"""Store, executors, jobs, labelling, surrogates, training and the command line."""
