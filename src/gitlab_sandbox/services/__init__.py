"""The sandbox's GitLab behaviour: accounts, merge requests, pushes, pipelines, merging, events."""
