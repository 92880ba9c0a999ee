"""The GitLab adapter of the merge engine: ``GitLabQueuePort`` (observe, perform, the local git
workspace) and the worker process's runtime that runs a project's queues with it."""
