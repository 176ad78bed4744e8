"""The container runtime model: the image catalogue and what containers do with memory, CPU and network."""
