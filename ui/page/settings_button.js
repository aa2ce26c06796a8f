// The "⚙ Settings" button of presentation mode (a Streamlit v2 component, no iframe): it opens or folds the sidebar.
// Presentation mode hides Streamlit's header, and with it the header's own expand button; this button clicks that
// (hidden) button, or the sidebar's fold button when the sidebar is open, so no round trip to the server is needed.
// Borrows two of Streamlit 1.67's test ids: stExpandSidebarButton and stSidebarCollapseButton
// (tests/test_browser_lecture.py fails if the sidebar no longer opens).

export default function (component) {
  const { parentElement } = component;
  let button = parentElement.querySelector("button");
  if (button) return;
  button = document.createElement("button");
  button.type = "button";
  button.className = "rnnlab-settings";
  button.textContent = "⚙ Settings";
  button.setAttribute("aria-controls", "stSidebar");
  const sidebar = () => document.querySelector('[data-testid="stSidebar"]');
  const isOpen = () => !!sidebar() && sidebar().getAttribute("data-collapsed") === "false";
  const sync = () => button.setAttribute("aria-expanded", String(isOpen()));
  button.addEventListener("click", () => {
    const expand = document.querySelector('[data-testid="stExpandSidebarButton"]');
    const fold = document.querySelector('[data-testid="stSidebarCollapseButton"] button, button[data-testid="stSidebarCollapseButton"]');
    if (!isOpen() && expand) expand.click();
    else if (isOpen() && fold) fold.click();
    setTimeout(sync, 400);
  });
  sync();
  parentElement.appendChild(button);
}
