"""Give every theorem/lemma its document in the PDF, so {prf:ref} links resolve there too.

sphinx-proof 0.4 labels a proof node in LaTeX as `\\label{<docname>:<label>}`, finding <docname> by walking
up to a section whose name equals the page title lowercased. When the title has markup or punctuation that
the section's normalised name lacks (Chapter 2's), it finds nothing and writes `None:<label>`, and every
reference to that theorem is undefined (`??` in the PDF). This falls back to the document the node sits in
(the `start_of_file` node the LaTeX builder wraps each page in, else the page of the node's source file).
"""

from sphinx import addnodes


def setup(app):
    import sphinx_proof.nodes as proof_nodes

    original = proof_nodes.find_parent

    def find_parent(env, node, parent_tag):
        found = original(env, node, parent_tag)
        if found is not None:
            return found
        start = node
        while node is not None:
            if isinstance(node, addnodes.start_of_file):
                return node["docname"]
            node = node.parent
        node = start
        while (
            node is not None
        ):  # no start_of_file above it: the page its source file belongs to
            source = getattr(node, "source", None) or node.get("source")
            if source and env.path2doc(source.split(":")[0]):
                return env.path2doc(source.split(":")[0])
            node = node.parent
        return None

    proof_nodes.find_parent = find_parent
    return {"parallel_read_safe": True, "parallel_write_safe": True}
