export { main, mainHelp } from './main';
export type { CommandContext } from './command';
