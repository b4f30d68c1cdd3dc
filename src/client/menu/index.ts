// Placeholder until the menu helper writes the interactive menu; it replaces this file.
export async function runMenu(options: { server: string; clientId: string }): Promise<number> {
  throw new Error(`menu not built yet (server ${options.server})`)
}
