"""What `cockpit queue cluster` and the Queue panel say of a Ray cluster's nodes."""

from core.jobs.cluster import ClusterNode, cluster_text

ADDRESS = "http://head.lab:8265"


def node(ip: str, gpus: float, gpus_used: float | None = None, **kw) -> ClusterNode:
    return ClusterNode(
        node_id=ip, ip=ip, name=ip, alive=kw.pop("alive", True), head=kw.pop("head", False),
        cpus_total=8, gpus_total=gpus, gpus_used=gpus_used, **kw,
    )


def test_a_cluster_whose_head_has_not_reported_yet_says_it_will():
    text = cluster_text(ADDRESS, [])
    assert text.startswith(f"Ray cluster {ADDRESS}: no node has reported yet")
    assert "few seconds" in text


def test_gpu_counts_are_in_words_that_agree_with_the_number():
    one = cluster_text(ADDRESS, [node("10.0.0.1", 1, head=True)])
    assert one.splitlines()[0] == f"Ray cluster {ADDRESS}: 1 node, 1 GPU"
    two = cluster_text(ADDRESS, [node("10.0.0.1", 1, head=True), node("10.0.0.2", 1)])
    assert two.splitlines()[0] == f"Ray cluster {ADDRESS}: 2 nodes, 2 GPUs"
    used = cluster_text(ADDRESS, [node("10.0.0.1", 2, 1, head=True), node("10.0.0.2", 0, 0)])
    assert used.splitlines()[0] == f"Ray cluster {ADDRESS}: 2 nodes, GPUs 1/2 in use"
    assert "  node 10.0.0.1 (head): GPUs 1/2 in use · CPUs 8" in used


def test_a_dead_node_is_listed_as_dead_and_not_counted():
    text = cluster_text(ADDRESS, [node("10.0.0.1", 1, head=True), node("10.0.0.9", 4, alive=False)])
    assert text.splitlines()[0] == f"Ray cluster {ADDRESS}: 1 node, 1 GPU"
    assert "  node 10.0.0.9: dead" in text
