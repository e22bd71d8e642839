"""Publishing: the GitHub Pages workflow and `make publish` deploy the output of the same strict `make book`."""

import re

import yaml
from conftest import ROOT, book_build_command, make_dry_run

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def load_workflow():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(workflow, dict), f"{WORKFLOW} does not parse to a mapping"
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def test_workflow_runs_on_main_and_may_deploy_pages():
    workflow = load_workflow()
    assert "main" in workflow["on"]["push"]["branches"], workflow["on"]
    permissions = workflow["permissions"]
    assert permissions.get("pages") == "write", "deploying needs `pages: write`"
    assert permissions.get("id-token") == "write", "deploy-pages needs id-token: write"


def test_workflow_builds_with_make_book_pdf_and_uploads_its_output():
    steps = load_workflow()["jobs"]["build"].get("steps", [])
    runs = [step["run"].strip() for step in steps if "run" in step]
    builds = [run for run in runs if run.startswith("make")]
    assert builds == ["make book pdf"], f"build with `make book pdf` only, not {runs}"
    others = [run for run in runs if not run.startswith("make")]
    assert all(
        line.strip().startswith(("sudo apt-get", "texlive", "fonts-"))
        for run in others
        for line in run.replace("\\\n", " ").splitlines()
    ), f"unexpected steps: {others}"
    uses = [step.get("uses", "") for step in steps]
    assert uses[0].startswith("actions/checkout@"), "checkout must come first"
    action = "actions/upload-pages-artifact@"
    upload = [i for i, use in enumerate(uses) if use.startswith(action)]
    assert len(upload) == 1 and steps[upload[0]]["with"]["path"] == "_build/html", (
        f"must upload _build/html: {[steps[i] for i in upload]}"
    )
    build = [s.get("run", "").strip() for s in steps].index(builds[0])
    assert upload[0] > build, "the upload must come after the build"


def test_workflow_deploys_the_uploaded_site():
    deploy = load_workflow()["jobs"]["deploy"]
    assert deploy["needs"] in ("build", ["build"]), f"needs: {deploy['needs']}"
    assert deploy["environment"]["name"] == "github-pages"
    uses = [step.get("uses", "") for step in deploy.get("steps", [])]
    assert any(use.startswith("actions/deploy-pages@") for use in uses)


def test_workflow_actions_are_pinned_to_a_major_version():
    for name, job in load_workflow()["jobs"].items():
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", step["uses"]), (
                    f"job {name}: `{step['uses']}` should name an action at a version tag"
                )


def test_make_publish_pushes_the_output_of_the_strict_book_build():
    commands = make_dry_run("publish").replace("\\\n", " ")  # join continued lines
    build = book_build_command()
    assert build in commands, f"`make publish` must run `make book`:\n{commands}"
    publish = [line for line in commands.splitlines() if "ghp-import" in line]
    assert len(publish) == 1, f"`make publish` should run ghp-import once:\n{commands}"
    arguments = publish[0].split()
    assert "--no-jekyll" in arguments, "without .nojekyll Pages hides _static/"
    assert "--push" in arguments, "`make publish` must push, not only commit"
    assert arguments[-1] == "_build/html", f"must publish _build/html: {publish[0]}"
    assert commands.index(build) < commands.index(publish[0]), "build before publishing"
    pdf = [line for line in commands.splitlines() if "tools/build_pdf.py" in line]
    assert len(pdf) == 1 and commands.index(pdf[0]) < commands.index(publish[0]), (
        "publish must make the PDFs first"
    )


def test_publishing_tools_are_pinned_in_requirements():
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^ghp-import==[\d.]+$", requirements, re.M), "pin ghp-import"
