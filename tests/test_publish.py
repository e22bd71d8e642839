"""Publishing: the GitHub Pages workflow and `make publish` deploy the output of the same strict `make book`."""

import re

import yaml
from conftest import ROOT, make_dry_run

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def load_workflow():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(workflow, dict), f"{WORKFLOW} does not parse to a mapping"
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job):
    return job.get("steps", [])


def build_command():
    commands = [
        line
        for line in make_dry_run("book").splitlines()
        if "jupyter-book build" in line
    ]
    assert len(commands) == 1, (
        f"`make book` should run one jupyter-book build, runs {commands}"
    )
    return commands[0].strip()


def test_workflow_runs_on_main_and_may_deploy_pages():
    workflow = load_workflow()
    assert "main" in workflow["on"]["push"]["branches"], (
        f"not triggered by pushes to main: {workflow['on']}"
    )
    assert workflow["permissions"].get("pages") == "write", (
        "deploying needs `pages: write`"
    )
    assert workflow["permissions"].get("id-token") == "write", (
        "deploy-pages needs `id-token: write`"
    )


def test_workflow_builds_with_make_book_pdf_and_uploads_its_output():
    build = load_workflow()["jobs"]["build"]
    runs = [step["run"].strip() for step in steps(build) if "run" in step]
    builds = [run for run in runs if run.startswith("make")]
    assert builds == ["make book pdf"], (
        f"the workflow must build with the local `make book pdf` only, runs {runs}"
    )
    others = [run for run in runs if not run.startswith("make")]
    assert all(
        line.strip().startswith(("sudo apt-get", "texlive", "fonts-"))
        for run in others
        for line in run.replace("\\\n", " ").splitlines()
    ), f"unexpected steps: {others}"
    uses = [step.get("uses", "") for step in steps(build)]
    assert (
        uses.index(next(u for u in uses if u.startswith("actions/checkout@"))) == 0
    ), "checkout must come first"
    upload = [
        step
        for step in steps(build)
        if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "_build/html", (
        f"must upload _build/html: {upload}"
    )
    run_index = next(
        i
        for i, step in enumerate(steps(build))
        if step.get("run", "").strip() == "make book pdf"
    )
    assert steps(build).index(upload[0]) > run_index, (
        "the upload must come after the build"
    )


def test_workflow_deploys_the_uploaded_site():
    jobs = load_workflow()["jobs"]
    deploy = jobs["deploy"]
    assert deploy["needs"] in ("build", ["build"]), (
        f"deploy must wait for the build: needs={deploy['needs']}"
    )
    assert deploy["environment"]["name"] == "github-pages"
    assert any(
        step.get("uses", "").startswith("actions/deploy-pages@")
        for step in steps(deploy)
    )


def test_workflow_actions_are_pinned_to_a_major_version():
    for name, job in load_workflow()["jobs"].items():
        for step in steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", step["uses"]), (
                    f"job {name}: `{step['uses']}` should name an action at a version tag"
                )


def test_make_publish_pushes_the_output_of_the_strict_book_build():
    commands = make_dry_run("publish").replace("\\\n", " ")  # join continued lines
    build = build_command()
    assert build in commands, (
        f"`make publish` must run the build of `make book`:\n{commands}"
    )
    publish = [line for line in commands.splitlines() if "ghp-import" in line]
    assert len(publish) == 1, f"`make publish` should run ghp-import once:\n{commands}"
    arguments = publish[0].split()
    assert "--no-jekyll" in arguments, (
        "without .nojekyll GitHub Pages hides _static/ and _images/"
    )
    assert "--push" in arguments, "`make publish` must push, not only commit"
    assert arguments[-1] == "_build/html", (
        f"`make publish` must publish _build/html: {publish[0]}"
    )
    assert commands.index(build) < commands.index(publish[0]), (
        "publish must build first"
    )
    pdf = [line for line in commands.splitlines() if "tools/build_pdf.py" in line]
    assert len(pdf) == 1 and commands.index(pdf[0]) < commands.index(publish[0]), (
        "publish must make the PDFs first"
    )


def test_publishing_tools_are_pinned_in_requirements():
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^ghp-import==[\d.]+$", requirements, re.M), (
        "pin ghp-import in requirements.txt"
    )
